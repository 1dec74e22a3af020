/**
 * The command line's commands: {@code train} (a thin door to the training session),
 * {@code evaluate}, {@code predict}, {@code gradcheck}, {@code inspect} and {@code generate}.
 *
 * <p>Not here: the training pipeline itself (the session), or anything the estimators use: the
 * estimator package does not import this one.
 */
package io.sparkprop.spark.cli;
