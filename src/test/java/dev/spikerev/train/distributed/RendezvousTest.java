package dev.spikerev.train.distributed;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** Parsing of {@code --rendezvous}, backend choice by device and the launcher's lost-peer rule (no natives). */
class RendezvousTest {
    @Test
    void hostPortIsTcpAnythingElseIsAFile() {
        Rendezvous t = Rendezvous.parse("127.0.0.1:29512");
        assertEquals(Rendezvous.Kind.TCP, t.kind());
        assertEquals("127.0.0.1", t.host());
        assertEquals(29512, t.port());
        assertTrue(t.loopback());
        assertEquals(t, Rendezvous.parse(t.spec()));
        Rendezvous n = Rendezvous.parse("tcp://node-1.cluster:50000");
        assertEquals("node-1.cluster", n.host());
        assertFalse(n.loopback());
        Rendezvous f = Rendezvous.parse("runs/x/.rendezvous/store");
        assertEquals(Rendezvous.Kind.FILE, f.kind());
        assertEquals(Path.of("runs/x/.rendezvous/store").toAbsolutePath(), f.file());
        assertTrue(f.loopback());
        assertThrows(IllegalArgumentException.class, () -> Rendezvous.parse("localhost:70000"));
        assertThrows(IllegalArgumentException.class, () -> Rendezvous.parse("tcp://nohost"));
        assertThrows(IllegalArgumentException.class, () -> Rendezvous.parse(" "));
    }

    @Test
    void backendFollowsDevice() {
        assertEquals(DistBackend.GLOO, DistBackend.forDevice("cpu"));
        assertEquals(DistBackend.NCCL, DistBackend.forDevice("cuda:1"));
        assertEquals(DistBackend.NCCL, DistBackend.forDevice("cuda"));
    }

    @Test
    void optionsAreValidated() {
        Rendezvous r = Rendezvous.parse("runs/x/store");
        assertThrows(IllegalArgumentException.class, () -> new DistOptions(2, 2, r, java.time.Duration.ofSeconds(5), -1, 1));
        assertThrows(IllegalArgumentException.class, () -> new DistOptions(0, 2, null, java.time.Duration.ofSeconds(5), -1, 1));
        assertThrows(IllegalArgumentException.class, () -> new DistOptions(0, 2, r, java.time.Duration.ZERO, -1, 1));
    }

    @Test
    void lostPeerErrorsAreNotTheCause() {
        assertTrue(Launcher.peerLoss("error: gloo allreduce failed on rank 0 of 2 (a peer probably died): ... Connection closed by peer"));
        assertTrue(Launcher.peerLoss("error: gloo barrier timed out after 60 s on rank 1 of 2"));
        assertFalse(Launcher.peerLoss("error: injected failure at step 2 on rank 1 (--fail-at-step)"));
        assertFalse(Launcher.peerLoss(null));
        assertThrows(IllegalArgumentException.class, () -> new Launcher(1, Path.of("x"), System.out));
    }
}
