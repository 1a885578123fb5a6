/** Measurement helpers: {@link dev.spikerev.bench.MemoryProbe} (process RSS and peak from /proc). */
package dev.spikerev.bench;
