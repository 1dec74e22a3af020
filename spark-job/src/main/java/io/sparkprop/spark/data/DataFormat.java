package io.sparkprop.spark.data;

import java.util.Locale;

/** The input formats the job reads. */
public enum DataFormat {
    /** MNIST's IDX files (images and labels in separate files), gzip-compressed or not. */
    IDX,
    /** LIBSVM text: {@code label index:value ...} with 1-based ascending indices. */
    LIBSVM,
    /** Delimited text with a label column and numeric feature columns. */
    CSV,
    /** Parquet with a label column and either a vector/array column or numeric columns. */
    PARQUET;

    /** Parses {@code idx}, {@code libsvm}, {@code csv}, {@code parquet} (case-insensitive). */
    public static DataFormat parse(String name) {
        for (DataFormat format : values()) {
            if (format.name().equalsIgnoreCase(name.trim())) {
                return format;
            }
        }
        throw new IllegalArgumentException("Unknown data format '" + name + "'; expected one of idx, libsvm, csv, parquet");
    }

    /** The name used in config files. */
    public String key() {
        return name().toLowerCase(Locale.ROOT);
    }
}
