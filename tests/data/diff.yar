// Rules for the differential test: every condition here is exact under
// windowed scanning (a string present, any of, at/in with constants), so
// yarasnoop's verdicts and per-string counts must equal yara's on the
// whole file. Bounded strings only: the overlap is derived, not the window.

rule plain { strings: $a = "SECRET_TOKEN_ABCDEFGH" condition: $a }
rule wide_str { strings: $w = "wide_secret" wide condition: $w }
rule nocase_str { strings: $n = "CaseInsensitiveMarker" nocase condition: $n }
rule fullword_str { strings: $f = "word" fullword condition: $f }
rule wide_fullword { strings: $wf = "wfw" wide fullword condition: $wf }
rule regex_key { strings: $r = /key=[0-9a-f]{16,32}/ condition: $r }
rule regex_boundary { strings: $b = /\bpass(word)?:[A-Z]{3,6}\b/ condition: $b }
rule hex_jump { strings: $h = { 4D 5A [0-300] 50 45 00 } condition: $h }
rule hex_small { strings: $s = { 13 37 [2-4] 42 ?? 42 } condition: $s }
rule xor_str { strings: $x = "xorme!" xor condition: $x }
rule b64_str { strings: $b = "base64secret" base64 condition: $b }
rule anon_any { strings: $ = "anonA1" $ = "anonB2" $ = /anonC[0-9]{2}/ condition: any of them }
rule header_at0 { strings: $h = "HDR!" condition: $h at 0 }
rule in_range { strings: $i = "RANGED" condition: $i in (1000..3000) }
private rule priv_mark { strings: $p = "PRIVATE_MARK" condition: $p }
rule uses_priv { condition: priv_mark }
private rule priv_str { strings: $q = "private_q" private condition: $q }
rule uses_priv_str { condition: priv_str }
