/**
 * Data-parallel training over c10d process groups (manual DDP).
 *
 * <ul>
 * <li>{@link dev.spikerev.train.distributed.Launcher}: {@code spikerev train --nproc N} starts N worker JVMs on this
 *     machine, watches them, and stops all of them when one fails (naming the rank and its last log line).</li>
 * <li>{@link dev.spikerev.train.distributed.Rendezvous}: where the workers meet, a c10d {@code FileStore} (default: a
 *     fresh file in the run folder) or a {@code TCPStore} hosted by rank 0 ({@code host:port}).</li>
 * <li>{@link dev.spikerev.train.distributed.ProcessGroups}: picks the collective backend by device (Gloo on CPU; NCCL
 *     on CUDA, referenced reflectively because the CPU presets jar cannot load it).</li>
 * <li>{@link dev.spikerev.train.distributed.DistGroup}: a live group (rank, world, backend) with timed collectives.</li>
 * <li>{@link dev.spikerev.train.distributed.GradSync}: broadcast of rank 0's weights; mean all-reduce of the
 *     gradients through one flat buffer.</li>
 * </ul>
 * The trainer calls these through a few marked {@code [ddp]} hooks; with one process nothing here runs.
 */
package dev.spikerev.train.distributed;
