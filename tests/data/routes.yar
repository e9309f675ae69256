// The route matrix's marker (tests/helpers/routes.c): one rule, any route.
rule route_mark { strings: $m = /YS_ROUTE_MARK_[a-z0-9_]+_END/ condition: $m }
