package dev.spikerev.train;

/** A bad configuration: unknown key, wrong type, out-of-range value or missing file. The message names the key. */
public class ConfigException extends IllegalArgumentException {
    public ConfigException(String message) { super(message); }
}
