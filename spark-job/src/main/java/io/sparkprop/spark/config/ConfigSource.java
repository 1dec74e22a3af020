package io.sparkprop.spark.config;

/**
 * Where a {@link TrainingConfig}'s typed values come from: a config file with its {@code --set}
 * overrides ({@link JobConfig}), or an estimator's params ({@code ml.MlpParams}). Neither goes
 * through the other's text: each hands over typed values, and {@link TrainingConfig#from} checks
 * them all in one place.
 */
public interface ConfigSource {

    /** The typed value of {@code key} ({@code null} when it is not set and has no default). */
    <T> T value(ConfigKey<T> key);

    /** Where {@code key}'s value came from, for errors: {@code default}, {@code a.conf line 3}, {@code --set}, ... */
    String origin(ConfigKey<?> key);

    /** How errors name {@code key} to this source's user: {@code Config key 'train.momentum'} by default. */
    default String subject(ConfigKey<?> key) {
        return "Config key '" + key.name() + "'";
    }
}
