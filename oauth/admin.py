# Tokens are deliberately not in the admin: digests are useless there and rows churn.
