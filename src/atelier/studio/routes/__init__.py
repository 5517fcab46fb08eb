"""The studio's HTTP API, one router per concern: uploads, styles, jobs (stylisations)."""
