package io.sparkprop.spark;

import com.esotericsoftware.kryo.Kryo;
import org.apache.spark.serializer.KryoRegistrator;

/**
 * Registers every class sparkprop ships between JVMs with Kryo, so a cluster can run with
 * {@code spark.kryo.registrationRequired=true} (our tests do). Set
 * {@code spark.kryo.registrator=io.sparkprop.spark.SparkpropKryoRegistrator}.
 */
public final class SparkpropKryoRegistrator implements KryoRegistrator {

    @Override
    public void registerClasses(Kryo kryo) {
        kryo.register(double[].class);
        kryo.register(double[][].class);
        kryo.register(int[].class);
        kryo.register(long[].class);
        kryo.register(Object[].class);
        kryo.register(io.sparkprop.core.DataBlock.class);
        kryo.register(io.sparkprop.core.GradientAccumulator.class);
        kryo.register(io.sparkprop.spark.train.EvalSums.class);
    }
}
