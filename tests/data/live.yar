// Markers for the live capture tests.
rule split_key { strings: $k = "YS_SPLIT_KEY_0123456789" condition: $k }
rule writev_mark { strings: $m = "YS_WRITEV_MARKER" condition: $m }
rule pwrite_mark { strings: $m = "YS_PWRITE_MARKER" condition: $m }
rule pwritev_mark { strings: $m = "YS_PWRITEV_MARKER" condition: $m }
rule child_mark { strings: $m = "YS_CHILD_MARKER" condition: $m }
rule after_flood { strings: $m = "YS_AFTER_FLOOD" condition: $m }
rule generic_mark { strings: $m = "YS_MARK" condition: $m }
