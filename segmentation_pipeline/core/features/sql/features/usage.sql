-- Behavioural features over the usage window, from the daily usage rollups.
sessions AS (  -- a session spanning midnight is in two days' rollups and counts once
    SELECT customer_id, count(*) AS sessions
    FROM (SELECT DISTINCT customer_id, session_id FROM usage_day_sessions
          WHERE date <= $snapshot AND date > $snapshot - $usage_window)
    GROUP BY customer_id
),
usage AS (  -- shares are exact integer ratios: events of the kind / all events
    SELECT customer_id,
        any_value(sessions) AS sessions,
        count(*) AS active_days,
        CAST(sum(events) AS BIGINT) AS events,
        sum(duration_s) / 60 AS usage_minutes,
        sum(mobile) / sum(events) AS mobile_share,
        sum(desktop) / sum(events) AS desktop_share,
        sum(tablet) / sum(events) AS tablet_share,
        sum(night) / sum(events) AS night_share,
        sum(morning) / sum(events) AS morning_share,
        sum(afternoon) / sum(events) AS afternoon_share,
        sum(evening) / sum(events) AS evening_share,
        sum(if(isodow(date) >= 6, events, 0)) / sum(events) AS weekend_share,
        $snapshot - max(date) AS days_since_last_seen
    FROM usage_day_customers JOIN sessions USING (customer_id)
    WHERE date <= $snapshot AND date > $snapshot - $usage_window
    GROUP BY customer_id
),
feature_use AS (
    SELECT customer_id, count(*) AS distinct_features, first(feature ORDER BY uses DESC, feature) AS top_feature
    FROM (SELECT customer_id, feature, sum(uses) AS uses FROM usage_day_features
          WHERE date <= $snapshot AND date > $snapshot - $usage_window GROUP BY ALL)
    GROUP BY customer_id
),
active_hour AS (  -- the UTC hour of the day with the most events (ties: the earliest)
    SELECT customer_id, first(hour ORDER BY events DESC, hour) AS most_active_hour
    FROM (SELECT customer_id, hour, sum(events) AS events FROM usage_day_hours
          WHERE date <= $snapshot AND date > $snapshot - $usage_window GROUP BY ALL)
    GROUP BY customer_id
),
active_weekday AS (  -- the weekday with the most events, 1 = Monday (ties: the earliest in the week)
    SELECT customer_id, first(weekday ORDER BY events DESC, weekday) AS weekday
    FROM (SELECT customer_id, isodow(date) AS weekday, sum(events) AS events FROM usage_day_customers
          WHERE date <= $snapshot AND date > $snapshot - $usage_window GROUP BY ALL)
    GROUP BY customer_id
)
