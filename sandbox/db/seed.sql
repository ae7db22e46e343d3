-- Seed data of the sandbox's `recommendations` database, run as a superuser after schema.sql.
-- Reproducible (setseed) and set-based; it replaces whatever the tables held before.
-- Volumes: 50 000 items, 500 segments (0..499), 200 000 users, 2 000 000 segment
-- recommendations (4 000 per segment), 1 000 000 per-user recommendations (5 per user).
-- Single transaction friendly: no VACUUM, no CONCURRENTLY; no percent signs (see schema.sql).

SET synchronous_commit = off;
SET maintenance_work_mem = '256MB';
SET work_mem = '64MB';
SELECT setseed(0.42);

TRUNCATE items, users, recommendations, user_recommendations;

-- Bulk load, then build the primary key: one sort instead of 1 000 000 B-tree insertions.
ALTER TABLE user_recommendations DROP CONSTRAINT IF EXISTS user_recommendations_pkey;

INSERT INTO items (item_id, title, category)
SELECT i,
       'Item ' || i,
       (ARRAY['books', 'music', 'movies', 'games', 'garden', 'kitchen', 'sports', 'toys',
              'travel', 'fashion', 'beauty', 'tools'])[1 + mod(i, 12)]
FROM generate_series(1, 50000) AS i;

-- Segment popularity follows Zipf's law with exponent 1: P(segment k) = (1/(k+1)) / H_500.
-- Instead of drawing each user's segment (inverse CDF per row, 200 000 lookups), the CDF is
-- applied once: segment k gets floor(N*cdf(k)) - floor(N*cdf(k-1)) users, which is the exact
-- Zipf share rounded and sums to N. Segment 0 gets ~29 500 users, segment 499 ~60, so every
-- segment has users. Each user gets a random signup time, and ids follow signup order as a
-- sequence would, so ids do not reveal the segment (1 and 199 999, used by the gates'
-- critical queries, are ordinary users).
INSERT INTO users (user_id, user_segment, created_at)
WITH weights AS (
    SELECT s AS segment, 1.0 / (s + 1) AS weight FROM generate_series(0, 499) AS s
), cdf AS (
    SELECT segment, sum(weight) OVER (ORDER BY segment) / sum(weight) OVER () AS p
    FROM weights
), shares AS (
    SELECT segment,
           floor(200000 * p)::int
             - coalesce(lag(floor(200000 * p)::int) OVER (ORDER BY segment), 0) AS n_users
    FROM cdf
)
SELECT row_number() OVER (ORDER BY signup),
       segment,
       timestamptz '2024-01-01 00:00:00+00' + signup * interval '365 days'
FROM (
    SELECT segment, random() AS signup
    FROM shares CROSS JOIN LATERAL generate_series(1, shares.n_users)
) AS signups;

-- Written segment by segment, as a batch job would: rows of a segment sit together on disk.
INSERT INTO recommendations (user_segment, item_id, score, generated_at)
SELECT s,
       1 + floor(random() * 50000)::int,
       random()::real,
       timestamptz '2025-01-01 00:00:00+00' + s * interval '1 minute'
FROM generate_series(0, 499) AS s CROSS JOIN generate_series(1, 4000) AS r;

-- Five distinct items per user: a random start and four fixed strides that never collide
-- modulo 50 000, so the primary key holds without a dedup pass.
INSERT INTO user_recommendations (user_id, item_id, score)
SELECT u.user_id, 1 + mod(u.base + j * 10007, 50000), random()::real
FROM (SELECT user_id, floor(random() * 50000)::int AS base FROM users) AS u
CROSS JOIN generate_series(0, 4) AS j;

ALTER TABLE user_recommendations ADD CONSTRAINT user_recommendations_pkey
    PRIMARY KEY (user_id, item_id);

ANALYZE items, users, recommendations, user_recommendations;
