package io.sparkprop.core.io;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * Strict standard UTF-8 for the model file's names and metadata: a string with an unpaired surrogate
 * cannot be written (it would not read back equal), and bytes that are not well-formed UTF-8 cannot
 * be read. This is not {@link java.io.DataOutputStream#writeUTF}'s modified UTF-8.
 */
final class Utf8 {

    private Utf8() {
    }

    /** The UTF-8 byte length of {@code s}, or {@code -1} if it has an unpaired surrogate. */
    static long length(String s) {
        long bytes = 0;
        int n = s.length();
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            if (c < 0x80) {
                bytes += 1;
            } else if (c < 0x800) {
                bytes += 2;
            } else if (Character.isHighSurrogate(c)) {
                if (i + 1 < n && Character.isLowSurrogate(s.charAt(i + 1))) {
                    bytes += 4;
                    i++;
                } else {
                    return -1;
                }
            } else if (Character.isLowSurrogate(c)) {
                return -1;
            } else {
                bytes += 3;
            }
        }
        return bytes;
    }

    /** The UTF-8 bytes of a string that {@link #length} accepted. */
    static byte[] encode(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** Decodes {@code bytes[offset, offset + length)}, rejecting malformed input. */
    static String decode(byte[] bytes, int offset, int length) throws CharacterCodingException {
        return StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT)
                .decode(ByteBuffer.wrap(bytes, offset, length))
                .toString();
    }
}
