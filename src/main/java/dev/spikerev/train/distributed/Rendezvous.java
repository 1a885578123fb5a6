package dev.spikerev.train.distributed;

import java.nio.file.Path;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.bytedeco.javacpp.SizeTPointer;
import org.bytedeco.javacpp.chrono.Milliseconds;
import org.bytedeco.pytorch.FileStore;
import org.bytedeco.pytorch.Store;
import org.bytedeco.pytorch.TCPStore;
import org.bytedeco.pytorch.TCPStoreOptions;

/**
 * Where the ranks of one run meet: a c10d key-value store. Spelled on the command line as either
 * <ul>
 * <li>{@code host:port} (or {@code tcp://host:port}): a {@code TCPStore}, hosted by rank 0 on {@code port};</li>
 * <li>anything else: a file path for a {@code FileStore} shared by all ranks. The file must be fresh for every run
 *     (the launcher makes a new one in the run folder and deletes it afterwards).</li>
 * </ul>
 */
public record Rendezvous(Kind kind, Path file, String host, int port) {
    public enum Kind { FILE, TCP }

    private static final Pattern HOST_PORT = Pattern.compile("^(?:tcp://)?([A-Za-z0-9._-]+|\\[[0-9A-Fa-f:]+\\]):(\\d{1,5})$");

    /** Parses a {@code --rendezvous} value. */
    public static Rendezvous parse(String spec) {
        if (spec == null || spec.isBlank()) throw new IllegalArgumentException("--rendezvous: empty (expected a file path or host:port)");
        Matcher m = HOST_PORT.matcher(spec.trim());
        if (m.matches()) {
            int port = Integer.parseInt(m.group(2));
            if (port < 1 || port > 65535) throw new IllegalArgumentException("--rendezvous " + spec + ": port must be in 1..65535");
            return new Rendezvous(Kind.TCP, null, m.group(1), port);
        }
        if (spec.startsWith("tcp://")) throw new IllegalArgumentException("--rendezvous " + spec + ": expected tcp://host:port");
        return new Rendezvous(Kind.FILE, Path.of(spec).toAbsolutePath(), null, 0);
    }

    public static Rendezvous file(Path p) { return new Rendezvous(Kind.FILE, p.toAbsolutePath(), null, 0); }

    /** Whether the peers talk over the loopback interface (file store, or a TCP store on localhost). */
    public boolean loopback() {
        return kind == Kind.FILE || host.equals("localhost") || host.startsWith("127.") || host.equals("[::1]");
    }

    /** The command-line spelling ({@link #parse} gives this record back). */
    public String spec() { return kind == Kind.FILE ? file.toString() : host + ":" + port; }

    /** Opens (rank 0 of a TCP store: hosts) the store; waits at most {@code timeout} for the other ranks. */
    public Store open(int rank, int world, Duration timeout) {
        Milliseconds ms = new Milliseconds(timeout.toMillis());
        if (kind == Kind.FILE) {
            Store s = new FileStore(file.toString(), world);
            s.setTimeout(ms);
            return s;
        }
        TCPStoreOptions o = new TCPStoreOptions();
        o.port((short) port); // uint16 in C++: ports above 32767 wrap to the right value
        o.isServer(rank == 0);
        o.waitWorkers(true);
        o.numWorkers(new SizeTPointer(1).put(world)); // std::optional<size_t>: unset until given
        o.timeout(ms);
        return new TCPStore(host.startsWith("[") ? host.substring(1, host.length() - 1) : host, o);
    }
}
