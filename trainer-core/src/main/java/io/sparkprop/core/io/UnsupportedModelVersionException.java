package io.sparkprop.core.io;

/**
 * The model file has the right magic but a format version this release cannot read, typically a
 * file written by a newer release. Nothing after the version field is interpreted, since another
 * version may lay the rest out differently.
 */
public class UnsupportedModelVersionException extends ModelFormatException {

    private final int foundVersion;
    private final int supportedVersion;

    public UnsupportedModelVersionException(String message, int foundVersion, int supportedVersion) {
        super(message);
        this.foundVersion = foundVersion;
        this.supportedVersion = supportedVersion;
    }

    /** The version number in the file. */
    public int foundVersion() {
        return foundVersion;
    }

    /** The one version this release reads. */
    public int supportedVersion() {
        return supportedVersion;
    }
}
