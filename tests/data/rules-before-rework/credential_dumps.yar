// /etc/shadow-style credential dumps: user:hash:... lines with a crypt(3)
// hash (MD5, bcrypt, SHA-256, SHA-512, yescrypt, scrypt).

rule shadow_hash_line
{
    meta:
        description = "a shadow(5) entry with a password hash"
        severity = "critical"
    strings:
        $line = /\b[a-z_][a-z0-9_.\-]{0,31}:\$(1|2[abxy]|5|6|7|y|gy)\$[.\/0-9A-Za-z$]{8,200}:[0-9]{0,6}:[0-9]{0,6}:/
    condition:
        $line
}
