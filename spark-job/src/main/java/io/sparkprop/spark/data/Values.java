package io.sparkprop.spark.data;

/**
 * The checks every format applies to one value of a row: finite features (divided by the feature
 * divisor), class labels, 0/1 labels, regression targets and weights. Each returns the value to
 * store or throws {@link BadRowException} saying what was expected and what was found; the caller
 * puts the column or index in front. Pure functions. The {@code raw} argument is the text as read,
 * or {@code null} for a binary value, and only appears in messages, so that {@code inf} is
 * reported as {@code 'inf'}. Messages are built only on failure: these run once per value.
 */
final class Values {

    private Values() {
    }

    /** {@code value / divisor}, which must be finite before and after the division. */
    static double feature(double value, String raw, double divisor) {
        double scaled = value / divisor;
        if (Double.isFinite(scaled)) {
            return scaled;
        }
        if (!Double.isFinite(value)) {
            throw new BadRowException("expected a finite feature value but found " + shown(value, raw));
        }
        throw new BadRowException("expected a finite feature value after dividing by " + divisor + " but "
                + shown(value, raw) + " / " + divisor + " = " + scaled);
    }

    /** An integer-valued label in {@code [0, numOutputs)} ({@code 3} and {@code 3.0} are class 3). */
    static int classIndex(double value, String raw, int numOutputs) {
        if (!Double.isFinite(value) || value != Math.rint(value)) {
            throw new BadRowException("expected an integer class label in [0, " + numOutputs + ") but found "
                    + shown(value, raw));
        }
        if (value < 0 || value >= numOutputs) {
            throw new BadRowException("expected a class label in [0, " + numOutputs + ") but found "
                    + shown(value, raw));
        }
        return (int) value;
    }

    /** One output of a multi-label row: exactly 0 or 1. */
    static double zeroOrOne(double value, String raw) {
        if (value != 0.0 && value != 1.0) {
            throw new BadRowException("expected a 0 or 1 label but found " + shown(value, raw));
        }
        return value == 0.0 ? 0.0 : 1.0;
    }

    /** A regression target: any finite value. */
    static double target(double value, String raw) {
        if (!Double.isFinite(value)) {
            throw new BadRowException("expected a finite regression target but found " + shown(value, raw));
        }
        return value;
    }

    /** A sample weight: finite and {@code >= 0}. */
    static double weight(double value, String raw) {
        if (!(value >= 0.0 && value < Double.POSITIVE_INFINITY)) {
            throw new BadRowException("expected a finite weight >= 0 but found " + shown(value, raw));
        }
        return value;
    }

    /** {@code 'raw'} when the text is known, else the value, integral values without {@code .0}. */
    static String shown(double value, String raw) {
        if (raw != null) {
            return "'" + raw + "'";
        }
        if (value == Math.rint(value) && Math.abs(value) < 1e15) {
            return Long.toString((long) value);
        }
        return Double.toString(value);
    }

    /** {@code context + ": " + e's message}, as a new {@link BadRowException}. */
    static BadRowException in(String context, BadRowException e) {
        return new BadRowException(context + ": " + e.getMessage());
    }
}
