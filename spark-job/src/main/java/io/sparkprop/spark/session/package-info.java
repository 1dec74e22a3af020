/**
 * One training session, the engine both front doors call
 * ({@link io.sparkprop.spark.session.TrainingSession}): blocks, hold-out and scaling, resume or
 * start, the distributed trainer, checkpoints, history, the model and the report; plus the model
 * file's metadata ({@link io.sparkprop.spark.session.ModelFiles}) and the live progress line.
 *
 * <p>Not here: argument parsing (the command line) or Spark ML params (the estimators).
 */
package io.sparkprop.spark.session;
