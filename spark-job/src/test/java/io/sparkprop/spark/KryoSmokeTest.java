package io.sparkprop.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.sparkprop.core.DataBlock;
import java.util.List;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.serializer.KryoSerializer;
import org.apache.spark.serializer.SerializerInstance;
import org.apache.spark.storage.StorageLevel;
import org.junit.jupiter.api.Test;
import scala.reflect.ClassTag$;

/** Our shipped classes survive Kryo with registration required, in and out of Spark jobs. */
class KryoSmokeTest {

    @Test
    void dataBlocksRoundTripThroughKryoAndSerializedCaching() {
        JavaSparkContext sc = JavaSparkContext.fromSparkContext(SparkTestSupport.spark().sparkContext());
        DataBlock block = new DataBlock(2, 2, 1, new double[] {1, 2, 3, 4}, new double[] {0, 1}, new double[] {1, 2});
        SerializerInstance kryo = new KryoSerializer(sc.getConf()).newInstance();
        DataBlock copy = kryo.deserialize(kryo.serialize(block, ClassTag$.MODULE$.apply(DataBlock.class)),
                ClassTag$.MODULE$.apply(DataBlock.class));
        assertArrayEquals(block.features(), copy.features());
        assertArrayEquals(block.weights(), copy.weights());

        List<Double> sums = sc.parallelize(List.of(1, 2), 2)
                .map(i -> new DataBlock(1, 1, 1, new double[] {i}, new double[] {0}, null))
                .persist(StorageLevel.MEMORY_AND_DISK_SER())
                .map(b -> b.features()[0])
                .collect();
        assertEquals(List.of(1.0, 2.0), sums);
    }

    @Test
    void sparseBlocksRoundTripThroughKryo() {
        JavaSparkContext sc = JavaSparkContext.fromSparkContext(SparkTestSupport.spark().sparkContext());
        DataBlock block = DataBlock.sparse(3, 6, 1, new int[] {0, 2, 2, 3}, new int[] {1, 5, 0},
                new double[] {0.5, -1, 2}, new double[] {1, 0, 1}, null);
        SerializerInstance kryo = new KryoSerializer(sc.getConf()).newInstance();
        DataBlock copy = kryo.deserialize(kryo.serialize(block, ClassTag$.MODULE$.apply(DataBlock.class)),
                ClassTag$.MODULE$.apply(DataBlock.class));
        assertEquals(true, copy.isSparse());
        assertArrayEquals(block.rowStart(), copy.rowStart());
        assertArrayEquals(block.columns(), copy.columns());
        assertArrayEquals(block.values(), copy.values());
        assertArrayEquals(block.targets(), copy.targets());
    }
}
