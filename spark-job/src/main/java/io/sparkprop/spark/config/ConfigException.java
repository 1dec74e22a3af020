package io.sparkprop.spark.config;

/**
 * A setting's value is not valid: names the key, the value and what was expected. Where the value
 * came from (a file and line, {@code --set}, an estimator param) is added by
 * {@link TrainingConfig#from}, which knows the source.
 */
public final class ConfigException extends IllegalArgumentException {

    private static final long serialVersionUID = 1L;

    private final transient ConfigKey<?> key;
    private final String value;
    private final String expectation;

    ConfigException(ConfigKey<?> key, String value, String expectation) {
        super("Config key '" + key.name() + "' " + expectation + " but got '" + value + "'");
        this.key = key;
        this.value = value;
        this.expectation = expectation;
    }

    ConfigException(ConfigException cause, String subject, String origin) {
        super(subject + " " + cause.expectation + " but got '" + cause.value + "' (from " + origin + ")", cause);
        this.key = cause.key;
        this.value = cause.value;
        this.expectation = cause.expectation;
    }

    /** The key whose value is wrong. */
    public ConfigKey<?> key() {
        return key;
    }
}
