package io.sparkprop.core.optim;

/**
 * A first-order update rule that changes a flat parameter array in place from a gradient of the
 * same layout. The driver owns the optimizer and its state; executors never see it.
 *
 * <p>Lifecycle: construct (hyperparameters are final; the state is zero, its arrays of
 * {@code paramCount} allocated when first needed, so that an optimizer which {@link #adopt}s its
 * state never holds a second, zero copy) -> {@link #step} once per mini-batch -> {@link #state()}
 * to checkpoint, {@link #restore} to continue bit-exactly from a checkpoint.
 *
 * <p>The learning rate is passed to every step rather than held, so a schedule lives outside the
 * optimizer and the optimizer state stays independent of it.
 */
public interface Optimizer {

    /**
     * Applies one update. {@code params (paramCount)} is OVERWRITTEN; {@code grad (paramCount)} is
     * read (it is the mean gradient of the mini-batch, L2 included, already clipped).
     *
     * @param learningRate the step size {@code η} for this step; must be finite and {@code >= 0}
     */
    void step(double[] params, double[] grad, double learningRate);

    /**
     * A lazy step ({@code train.sparse-update = lazy}): the update of {@link #step} for the
     * parameters in {@code active} only, and only their state; every other parameter and its state
     * are left as they are, as if their gradient and the step did not exist for them. The step
     * counter advances by one either way, so Adam's bias correction uses the global step. These are
     * the semantics of TensorFlow Addons' {@code LazyAdam} and PyTorch's {@code SparseAdam}, and
     * they differ from {@link #step} with a zero gradient outside {@code active} wherever state or
     * decay would move such a parameter: Adam's and momentum's moments decay, and a moving parameter
     * keeps moving, only on the steps that touch it, and decoupled weight decay shrinks only active
     * parameters. For plain SGD without decay the two are the same bits.
     *
     * @param grad   {@code (active.size())} packed: the gradient of the active parameters in index
     *               order, {@code grad[q]} for the {@code q}-th of them (for ranges {@code [0,
     *               paramCount)} the dense gradient itself); read only. Packed, a step's gradient
     *               is the size of what it updates, not of the model (a step over 2^18 x 64 first
     *               layer weights touches a few thousand rows).
     * @param active the parameters to update, within {@code paramCount}
     */
    void step(double[] params, double[] grad, double learningRate, ParameterRanges active);

    /** A deep copy of everything the next {@link #step} depends on besides its arguments. */
    OptimizerState state();

    /**
     * Replaces this optimizer's state with {@code state}, which must come from an optimizer of the
     * same kind and parameter count; throws {@code IllegalArgumentException} naming the mismatch.
     */
    void restore(OptimizerState state);

    /**
     * {@link #restore}, taking {@code state}'s slot arrays as this optimizer's own instead of copying
     * them: later steps update those arrays in place, and {@link #slots()} returns them. The caller
     * gives them up (shares them only with code that reads them between steps). For large models,
     * where a copy of the state per task or per round costs time and memory.
     */
    void adopt(OptimizerState state);

    /**
     * The state slots this optimizer steps, live (not copies): read them, or change them, only
     * between steps. Empty for an optimizer without state.
     */
    double[][] slots();

    /** The number of steps taken ({@link OptimizerState#steps()}). */
    long steps();

    /** The {@link OptimizerState#kind()} this optimizer writes and accepts. */
    String kind();
}
