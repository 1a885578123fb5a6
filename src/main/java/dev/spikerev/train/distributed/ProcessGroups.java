package dev.spikerev.train.distributed;

import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.time.Duration;
import org.bytedeco.javacpp.chrono.Milliseconds;
import org.bytedeco.pytorch.Backend;
import org.bytedeco.pytorch.ProcessGroupGloo;
import org.bytedeco.pytorch.Store;

/**
 * Builds the c10d backend of one rank. Both backends are used through their common base class {@link Backend}
 * ({@code allreduce}, {@code broadcast}, {@code barrier}), so the rest of the code does not depend on which one runs.
 *
 * <p><b>Gloo</b> (CPU): one TCP device on 127.0.0.1 when the peers are local, otherwise the interface named by
 * {@code SPIKEREV_GLOO_IFNAME} (like {@code GLOO_SOCKET_IFNAME}) or gloo's default device (the host name's address).
 *
 * <p><b>NCCL</b> (CUDA): {@code org.bytedeco.pytorch.nccl.ProcessGroupNCCL} is referenced by reflection only. Its
 * class is in the Java API jar, but its native library ({@code libjnitorch_nccl}) ships only with the
 * {@code linux-x86_64-gpu} natives, so naming it directly would make the CPU build fail at class load time.
 * Untested: this machine has no GPU.
 */
public final class ProcessGroups {
    static final String NCCL_CLASS = "org.bytedeco.pytorch.nccl.ProcessGroupNCCL";

    private ProcessGroups() {}

    /** Blocks until all {@code world} ranks joined through {@code store}; collectives then time out after {@code timeout}. */
    public static Backend create(DistBackend backend, Store store, int rank, int world, Duration timeout, boolean loopback) {
        return switch (backend) {
            case GLOO -> gloo(store, rank, world, timeout, loopback);
            case NCCL -> nccl(store, rank, world, timeout);
        };
    }

    static Backend gloo(Store store, int rank, int world, Duration timeout, boolean loopback) {
        ProcessGroupGloo.Options opts = ProcessGroupGloo.Options.create(new Milliseconds(timeout.toMillis()));
        String ifname = System.getenv("SPIKEREV_GLOO_IFNAME");
        if (ifname != null && !ifname.isBlank()) opts.devices().push_back(ProcessGroupGloo.createDeviceForInterface(ifname.trim()));
        else if (loopback) opts.devices().push_back(ProcessGroupGloo.createDeviceForHostname("127.0.0.1"));
        else opts.devices().push_back(ProcessGroupGloo.createDefaultDevice()); // an empty list throws "No device(s) specified"
        opts.threads(2);
        return new ProcessGroupGloo(store, rank, world, opts);
    }

    static Backend nccl(Store store, int rank, int world, Duration timeout) {
        try {
            Class<?> pg = Class.forName(NCCL_CLASS);
            Class<?> optsClass = Class.forName(NCCL_CLASS + "$Options");
            Object opts = optsClass.getMethod("create").invoke(null);
            ((Backend.Options) opts).timeout(new Milliseconds(timeout.toMillis()));
            Constructor<?> c = pg.getConstructor(Store.class, int.class, int.class, optsClass);
            return (Backend) c.newInstance(store, rank, world, opts);
        } catch (ClassNotFoundException | NoSuchMethodException | IllegalAccessException | InstantiationException | ClassCastException
                 | LinkageError e) {
            throw new IllegalStateException("NCCL backend not available in this build (" + e + "); build with the CUDA presets "
                    + "(SPIKEREV_PROFILE=cuda) or train on --device cpu (gloo)", e);
        } catch (InvocationTargetException e) {
            Throwable c = e.getCause();
            if (c instanceof LinkageError)
                throw new IllegalStateException("NCCL backend not available in this build (" + c + "); build with the CUDA presets "
                        + "(SPIKEREV_PROFILE=cuda) or train on --device cpu (gloo)", c);
            if (c instanceof RuntimeException re) throw re;
            throw new IllegalStateException("creating the NCCL process group failed: " + c, c);
        }
    }
}
