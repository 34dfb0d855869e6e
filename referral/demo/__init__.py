"""``referral demo``: a workspace that shows every feature with realistic data.

``seed.seed_demo`` runs it all: the logins, the campaigns (``campaigns``), the referral
cascade (``cascade``), then the survey (``surveys``), the prize draws (``lottery``), the
free trial and the instant-win game (``games``). Each part is idempotent, and the data is
random but seeded, so every install shows the same picture. The demo uses the services as
any caller does; no service imports it.
"""
