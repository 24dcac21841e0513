-- Psychographic / needs features: the latest survey answer.
latest_survey AS (
    SELECT customer_id, nps, csat, price_sensitivity, primary_need, preferred_contact_channel
    FROM survey_responses WHERE date <= $snapshot
    QUALIFY row_number() OVER (PARTITION BY customer_id ORDER BY submitted_at DESC, response_id DESC) = 1
)
