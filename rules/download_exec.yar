// Download-and-execute one-liners: a fetched script piped or handed
// straight to a shell.

rule curl_pipe_shell
{
    meta:
        description = "curl or wget output piped into a shell"
        severity = "high"
    strings:
        $pipe = /\b(curl|wget)[ \t]([^|\n;&rw]|r[^|\n;&l]|rl[^|\n;& \t]|w[^|\n;&g]){1,100}(r|rl|w)?\|[ \t]{0,4}(sudo[ \t]{1,4}(-[A-Za-z]{1,8}[ \t]{1,4}){0,3})?(\/usr)?(\/bin\/)?(ba|da|z|k|c|tc)?sh\b/
    condition:
        $pipe
}

rule shell_process_substitution_fetch
{
    meta:
        description = "a shell running fetched code: bash <(curl ...), sh -c \"$(wget -O- ...)\""
        severity = "high"
    strings:
        $subst = /\b(ba|z|k)?sh[ \t]{1,4}<\([ \t]{0,4}(curl|wget)[ \t]/
        $cmd = /\b(ba|z|k|da)?sh[ \t]{1,4}-c[ \t]{1,4}["']?\$\([ \t]{0,4}(curl|wget)[ \t]/
    condition:
        any of them
}
