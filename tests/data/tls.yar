// The TLS tests' secret (tests/integration/test_tls.sh).
rule tls_secret { strings: $s = "YS_TLS_SECRET_0123456789" condition: $s }
