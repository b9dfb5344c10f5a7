import os

# Argon2 with the least work in test suites (and the servers they start, which inherit
# the environment): the suite signs in thousands of times. Production refuses it.
os.environ.setdefault("ENGAGE_PASSWORD_HASHING", "fast")
