/**
 * Custom backward machinery: {@link dev.spikerev.autograd.Broyden} (limited-memory Broyden root finder with
 * tolerance, iteration limit and diagnostics) and {@link dev.spikerev.autograd.FixedPointAdjoint} (implicit
 * differentiation of a fixed point: solves {@code u (I − J) = g} from vector-Jacobian products).
 */
package dev.spikerev.autograd;
