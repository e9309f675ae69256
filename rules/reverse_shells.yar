// Reverse-shell one-liners as they are typed or written into scripts.

rule reverse_shell_dev_tcp
{
    meta:
        description = "bash/sh redirected to a /dev/tcp or /dev/udp socket"
        severity = "critical"
    strings:
        $redir = /[<>]&?[ \t]{0,4}\/dev\/(tcp|udp)\/[0-9A-Za-z.\-]{1,64}\/[0-9]{1,5}/
        $exec = /\bexec[ \t]{1,4}[0-9]{1,3}<>\/dev\/(tcp|udp)\//
    condition:
        any of them
}

rule reverse_shell_netcat_exec
{
    meta:
        description = "netcat handing a shell to the network (-e / -c)"
        severity = "critical"
    strings:
        $e = /\b(nc|ncat|netcat)(\.traditional|\.openbsd)?[ \t][^\n|;]{0,128}-[ec][ \t]{1,4}(\/usr)?\/bin\/(ba|z|da)?sh\b/
    condition:
        $e
}

rule reverse_shell_mkfifo
{
    meta:
        description = "named pipe looped through a shell and netcat or openssl"
        severity = "critical"
    strings:
        $f = /\bmkfifo[ \t]([^\nm]|m[^\nk]){1,100}m?sh[ \t]{1,4}-i([^\nm]|m[^\nk]){0,50}m?\b(nc|ncat|openssl)\b/
    condition:
        $f
}

rule reverse_shell_scripting
{
    meta:
        description = "python, perl, ruby or php opening a socket and handing it a shell"
        severity = "critical"
    strings:
        $py = /socket\.socket\(([^\n.]|\.[^\ns]){0,149}\.?(dup2|pty\.spawn|subprocess\.call)/
        $pl = /use[ \t]{1,4}Socket;([^\nS]|S[^\no]){0,180}S?exec\([ \t]{0,4}["']\/bin\/(ba)?sh/
        $rb = /TCPSocket\.(new|open)\([^\n(]{0,200}\b(exec|spawn|system)\b[^\n]{0,40}\/bin\/(ba)?sh/
        $php = /fsockopen\([^\n(]{0,200}(exec|shell_exec|system|passthru|proc_open)\([ \t]{0,4}["']\/bin\/(ba)?sh/
    condition:
        any of them
}

rule reverse_shell_socat
{
    meta:
        description = "socat exec'ing a shell onto a TCP connection"
        severity = "critical"
    strings:
        $s = /\bsocat[ \t]([^\ns]|s[^\no]){0,63}s?\bexec:["']?(\/usr)?\/bin\/(ba)?sh([^\ns]|s[^\no]){0,63}s?\btcp[46]?(-connect)?:/ nocase
        $s2 = /\bsocat[ \t]([^\ns]|s[^\no]){0,63}s?\btcp[46]?(-connect)?:([^\ns]|s[^\no]){0,63}s?\bexec:["']?(\/usr)?\/bin\/(ba)?sh/ nocase
    condition:
        any of them
}
