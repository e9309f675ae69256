// Sample rules for the multi-stream replay demo (after the seed's
// test_multi_stream.yar): a plain string, a regex, a hex string, a rule
// that needs two strings, and a private rule another rule builds on.

rule test_pattern1
{
    strings:
        $a = "ERROR"
    condition:
        $a
}

rule test_pattern2
{
    strings:
        $re = /user=[a-z]+ login failed/
    condition:
        $re
}

rule test_pattern3
{
    strings:
        $hex = { 50 41 53 53 57 4f 52 44 }  // "PASSWORD"
    condition:
        $hex
}

private rule saw_connect
{
    strings:
        $c = "connect from"
    condition:
        $c
}

rule test_connect_then_denied
{
    strings:
        $d = "access denied"
    condition:
        saw_connect and $d
}
