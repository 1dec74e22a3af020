/**
 * Checkpoints on any Hadoop file system: the atomic, checksummed store with retention, the
 * training state's codec, the sink the training loop writes through, the resume check (each
 * key's rule comes from its declaration in the config schema), and the run key that gives each
 * estimator fit a store of its own; the writer claim that gives each directory one writer at a time,
 * and the one-line form of a failed write (Hadoop's {@code FSError} included).
 *
 * <p>Not here: when to checkpoint (the training loop decides) or what the run does on resume (the
 * session).
 */
package io.sparkprop.spark.checkpoint;
