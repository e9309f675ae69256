// Cloud keys and API tokens written in the clear.
// Bounded patterns only: the longest one sets how many bytes of each
// stream yarasnoop keeps to catch a key split across two writes.

rule aws_access_key_id
{
    meta:
        description = "AWS access key id (long-term AKIA or temporary ASIA)"
        severity = "high"
    strings:
        $id = /\b(AKIA|ASIA)[0-9A-Z]{16}\b/
    condition:
        $id
}

rule aws_secret_access_key
{
    meta:
        description = "AWS secret access key assigned in a config, env or CLI line"
        severity = "critical"
    strings:
        $kv = /aws_secret_access_key["']?[ \t]{0,4}[=:][ \t]{0,4}["']?[A-Za-z0-9\/+]{40}/ nocase
    condition:
        $kv
}

rule github_token
{
    meta:
        description = "GitHub personal, OAuth, user-to-server, server-to-server or refresh token"
        severity = "high"
    strings:
        $classic = /\bgh[pousr]_[A-Za-z0-9]{36}\b/
        $fine = /\bgithub_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59}\b/
    condition:
        any of them
}

rule gitlab_token
{
    meta:
        description = "GitLab personal access token"
        severity = "high"
    strings:
        $t = /\bglpat-[A-Za-z0-9_\-]{20}\b/
    condition:
        $t
}

rule slack_token
{
    meta:
        description = "Slack bot, user, app or refresh token"
        severity = "high"
    strings:
        $t = /\bxox[abposr]-[0-9]{6,15}-[0-9A-Za-z\-]{8,80}/
    condition:
        $t
}

rule google_api_key
{
    meta:
        description = "Google API key"
        severity = "medium"
    strings:
        $k = /\bAIza[0-9A-Za-z_\-]{35}\b/
    condition:
        $k
}

rule stripe_secret_key
{
    meta:
        description = "Stripe live secret or restricted key"
        severity = "critical"
    strings:
        $k = /\b[sr]k_live_[0-9A-Za-z]{24,99}\b/
    condition:
        $k
}
