// Private keys in PEM, OpenSSH and OpenPGP armour.

rule ssh_private_key
{
    meta:
        description = "OpenSSH private key"
        severity = "critical"
    strings:
        $h = "-----BEGIN OPENSSH PRIVATE KEY-----"
    condition:
        $h
}

rule pem_private_key
{
    meta:
        description = "PEM private key (RSA, EC, DSA, PKCS#8, encrypted PKCS#8)"
        severity = "critical"
    strings:
        $rsa = "-----BEGIN RSA PRIVATE KEY-----"
        $ec = "-----BEGIN EC PRIVATE KEY-----"
        $dsa = "-----BEGIN DSA PRIVATE KEY-----"
        $p8 = "-----BEGIN PRIVATE KEY-----"
        $enc = "-----BEGIN ENCRYPTED PRIVATE KEY-----"
    condition:
        any of them
}

rule pgp_private_key
{
    meta:
        description = "OpenPGP secret key block"
        severity = "critical"
    strings:
        $h = "-----BEGIN PGP PRIVATE KEY BLOCK-----"
    condition:
        $h
}
