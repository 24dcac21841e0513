-- Spark SQL functions that compute what DuckDB does where Spark's built-ins differ (spark_sql.py writes calls to
-- them; spark_engine.py creates them in every session). Plain SQL: they run inside Spark's JVM.

-- The high half of Veltkamp's split of a double (27 significant bits): a = hi + (a - hi), each half exact.
CREATE OR REPLACE TEMPORARY FUNCTION duckdb_split_high(a DOUBLE) RETURNS DOUBLE
RETURN (134217729D * a) - ((134217729D * a) - a);

-- Dekker's product error: a * b - fl(a * b), exactly, for finite a and b well inside the double range.
CREATE OR REPLACE TEMPORARY FUNCTION duckdb_product_error(a DOUBLE, b DOUBLE) RETURNS DOUBLE
RETURN ((duckdb_split_high(a) * duckdb_split_high(b) - a * b)
        + duckdb_split_high(a) * (b - duckdb_split_high(b))
        + (a - duckdb_split_high(a)) * duckdb_split_high(b))
       + (a - duckdb_split_high(a)) * (b - duckdb_split_high(b));

-- DuckDB's round(DOUBLE, digits): the double's exact binary value rounded half away from zero (round(0.285, 2) is
-- 0.28: the double is 0.28499999999999997558), where Spark's round() rounds its shortest decimal text (0.29). From
-- |x| * 10^digits = p + e exactly (p = fl(|x| * 10^digits), e its product error), round up when the fraction of p
-- minus one half is positive, or zero and e is not negative. Doubles of 2^52 and above are integers, left as they
-- are; below that, |x| * 10^digits must stay under 2^52 (4.5e13 at 2 digits), else the call fails rather than
-- differ from DuckDB.
CREATE OR REPLACE TEMPORARY FUNCTION duckdb_round_scaled(x DOUBLE, scale DOUBLE) RETURNS DOUBLE
RETURN CASE
    WHEN abs(x) * scale >= 4503599627370496D
        THEN raise_error('round(): a value of 2^52 / 10^digits or more has no exact Spark translation')
    ELSE sign(x) * (floor(abs(x) * scale) + IF(
        (abs(x) * scale - floor(abs(x) * scale)) - 0.5D > 0
        OR ((abs(x) * scale - floor(abs(x) * scale)) - 0.5D = 0 AND duckdb_product_error(abs(x), scale) >= 0),
        1, 0)) / scale
END;

CREATE OR REPLACE TEMPORARY FUNCTION duckdb_round(x DOUBLE, digits INT) RETURNS DOUBLE
RETURN CASE
    WHEN isnan(x) OR abs(x) = double('Infinity') OR abs(x) >= 4503599627370496D THEN x
    ELSE duckdb_round_scaled(x, power(10, digits))
END;
