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
        $f = /\bmkfifo[ \t][^\n]{1,200}(\/bin\/)?(ba)?sh[ \t]{1,4}-i[^\n]{0,100}\b(nc|ncat|openssl)\b/
    condition:
        $f
}

rule reverse_shell_scripting
{
    meta:
        description = "python, perl, ruby or php opening a socket and handing it a shell"
        severity = "critical"
    strings:
        $py = /socket\.socket\([^\n]{0,300}(dup2|pty\.spawn|subprocess\.call)/
        $pl = /use[ \t]{1,4}Socket;[^\n]{0,300}exec\([ \t]{0,4}["']\/bin\/(ba)?sh/
        $rb = /TCPSocket\.(new|open)\([^\n]{0,200}\b(exec|spawn|system)\b[^\n]{0,40}\/bin\/(ba)?sh/
        $php = /fsockopen\([^\n]{0,200}(exec|shell_exec|system|passthru|proc_open)\([ \t]{0,4}["']\/bin\/(ba)?sh/
    condition:
        any of them
}

rule reverse_shell_socat
{
    meta:
        description = "socat exec'ing a shell onto a TCP connection"
        severity = "critical"
    strings:
        $s = /\bsocat[ \t][^\n]{0,128}\bexec:["']?(\/usr)?\/bin\/(ba)?sh[^\n]{0,128}\btcp[46]?(-connect)?:/ nocase
        $s2 = /\bsocat[ \t][^\n]{0,128}\btcp[46]?(-connect)?:[^\n]{0,128}\bexec:["']?(\/usr)?\/bin\/(ba)?sh/ nocase
    condition:
        any of them
}
