// Markers for the process context and filter tests (tests/helpers/who.py):
// one rule per marker, so that each write's match is its own event.
rule mark_a { strings: $m = "YS_WHO_MARK_A" condition: $m }
rule mark_b { strings: $m = "YS_WHO_MARK_B" condition: $m }
rule mark_c { strings: $m = "YS_WHO_MARK_C" condition: $m }
rule mark_d { strings: $m = "YS_WHO_MARK_D" condition: $m }
rule mark_e { strings: $m = "YS_WHO_MARK_E" condition: $m }
rule mark_f { strings: $m = "YS_WHO_MARK_F" condition: $m }
rule mark_g { strings: $m = "YS_WHO_MARK_G" condition: $m }
rule mark_h { strings: $m = "YS_WHO_MARK_H" condition: $m }
rule mark_i { strings: $m = "YS_WHO_MARK_I" condition: $m }
rule mark_j { strings: $m = "YS_WHO_MARK_J" condition: $m }
