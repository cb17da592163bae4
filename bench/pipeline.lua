-- bench/pipeline.lua: wrk script for the pipelined row of `make bench-http`.
-- Every write carries PIPELINE (default 16) GET requests of the URL given to
-- wrk, as the TechEmpower plaintext test does; wrk parses and counts every
-- response, so req/s counts requests answered, not writes.
local depth = tonumber(os.getenv("PIPELINE") or "16")

init = function(args)
    local r = {}
    for i = 1, depth do
        r[i] = wrk.format(nil)
    end
    req = table.concat(r)
end

request = function()
    return req
end
