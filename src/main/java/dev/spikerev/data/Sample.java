package dev.spikerev.data;

import java.util.Arrays;

/**
 * One example: pixel data in {@code [C, H, W]} (or {@code [T, C, H, W]} for event frames) order plus a class label.
 *
 * <p>Exactly one of {@code u8} (raw 0..255 pixels, as stored on disk) and {@code f32} (float values, e.g. after
 * {@link Transforms#toFloat()}) is non-null. {@link #floats()} converts bytes with {@code v / 255} like torchvision's
 * {@code ToTensor}. Arrays are not copied; transforms always return new arrays and never mutate their input.
 */
public record Sample(byte[] u8, float[] f32, int[] shape, int label) {

    public Sample {
        if ((u8 == null) == (f32 == null)) throw new IllegalArgumentException("Sample needs exactly one of u8/f32");
        long n = numel(shape);
        int len = u8 != null ? u8.length : f32.length;
        if (n != len) {
            throw new IllegalArgumentException("Sample data has " + len + " values but shape " + Arrays.toString(shape)
                    + " needs " + n);
        }
    }

    /** Raw byte pixels (0..255) with the given shape. */
    public static Sample ofBytes(byte[] data, int label, int... shape) {
        return new Sample(data, null, shape.clone(), label);
    }

    /** Float values with the given shape. */
    public static Sample ofFloats(float[] data, int label, int... shape) {
        return new Sample(null, data, shape.clone(), label);
    }

    /** True if the pixels are raw bytes. */
    public boolean isBytes() {
        return u8 != null;
    }

    /** The data as floats: the float array itself, or bytes scaled by 1/255. */
    public float[] floats() {
        if (f32 != null) return f32;
        float[] out = new float[u8.length];
        for (int i = 0; i < out.length; i++) out[i] = (u8[i] & 0xff) / 255f;
        return out;
    }

    /** Number of values. */
    public int numel() {
        return u8 != null ? u8.length : f32.length;
    }

    /** Channels (dimension {@code rank-3}). */
    public int channels() {
        return shape[shape.length - 3];
    }

    /** Height (dimension {@code rank-2}). */
    public int height() {
        return shape[shape.length - 2];
    }

    /** Width (last dimension). */
    public int width() {
        return shape[shape.length - 1];
    }

    static long numel(int[] shape) {
        long n = 1;
        for (int s : shape) {
            if (s < 0) throw new IllegalArgumentException("negative dimension in " + Arrays.toString(shape));
            n *= s;
        }
        return n;
    }

    @Override
    public String toString() {
        return "Sample" + Arrays.toString(shape) + (u8 != null ? "u8" : "f32") + " label=" + label;
    }
}
