package dev.spikerev.checkpoint;

import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * The tensor element types a checkpoint may hold, with their Python names and the legacy storage
 * class names torch.save writes ({@code torch.FloatStorage} ...). Compare libtorch types through
 * {@link #of(ScalarType)}: {@code ScalarType} values from native calls are not {@code ==} to the
 * enum constants (cookbook §3 pitfall).
 */
public enum DType {
    FLOAT32("float32", "FloatStorage", ScalarType.Float, 4),
    FLOAT64("float64", "DoubleStorage", ScalarType.Double, 8),
    FLOAT16("float16", "HalfStorage", ScalarType.Half, 2),
    BFLOAT16("bfloat16", "BFloat16Storage", ScalarType.BFloat16, 2),
    INT64("int64", "LongStorage", ScalarType.Long, 8),
    INT32("int32", "IntStorage", ScalarType.Int, 4),
    INT16("int16", "ShortStorage", ScalarType.Short, 2),
    INT8("int8", "CharStorage", ScalarType.Char, 1),
    UINT8("uint8", "ByteStorage", ScalarType.Byte, 1),
    BOOL("bool", "BoolStorage", ScalarType.Bool, 1);

    /** Python name without the {@code torch.} prefix, e.g. {@code float32}. */
    public final String pythonName;
    /** Legacy storage class in module {@code torch}, e.g. {@code FloatStorage}. */
    public final String storageClass;
    public final ScalarType scalarType;
    public final int size;

    DType(String pythonName, String storageClass, ScalarType scalarType, int size) {
        this.pythonName = pythonName;
        this.storageClass = storageClass;
        this.scalarType = scalarType;
        this.size = size;
    }

    /** The DType of a libtorch scalar type; null if spikerev checkpoints do not support it. */
    public static DType of(ScalarType t) {
        for (DType d : values()) if (d.scalarType.value == t.value) return d;
        return null;
    }

    public static DType byStorageClass(String name) {
        for (DType d : values()) if (d.storageClass.equals(name)) return d;
        return null;
    }

    public static DType byPythonName(String name) {
        for (DType d : values()) if (d.pythonName.equals(name)) return d;
        // torch's aliases that appear as pickled globals (torch.float, torch.long, ...)
        return switch (name) {
            case "float" -> FLOAT32;
            case "double" -> FLOAT64;
            case "half" -> FLOAT16;
            case "long" -> INT64;
            case "int" -> INT32;
            case "short" -> INT16;
            default -> null;
        };
    }

    public boolean isFloatingPoint() { return this == FLOAT32 || this == FLOAT64 || this == FLOAT16 || this == BFLOAT16; }
}
