-- wrk script: the client_credentials POST of ../shared/bench/wrk-post.lua (form body, HTTP Basic)
-- plus a `DPoP` header carrying a fresh proof per request (RFC 9449: every proof is single-use).
-- Proofs come from files written by proofs.mjs into PROOF_DIR: header.txt (the header part, the
-- same for all) and proofs-<i>.txt (one "payload.signature" per line). Each wrk thread claims the
-- next unused file through the counter PROOF_DIR/next, so the warm-up and every run (separate
-- wrk processes) each read proofs nobody used. A thread whose file runs out resends its last
-- proof — a replay the server rejects, so it shows as non-2xx — and done() reports it.
-- Environment: LOAD_BODY, LOAD_AUTH (as wrk-post.lua), PROOF_DIR.
local dir = os.getenv("PROOF_DIR")
local threads = {}

function setup(thread)
  local f = assert(io.open(dir .. "/next", "r"))
  local n = tonumber(f:read("*l"))
  f:close()
  f = assert(io.open(dir .. "/next", "w"))
  f:write(tostring(n + 1), "\n")
  f:close()
  thread:set("file_index", n)
  table.insert(threads, thread)
end

function init(args)
  local hf = assert(io.open(dir .. "/header.txt", "r"))
  header = hf:read("*l")
  hf:close()
  local path = string.format("%s/proofs-%d.txt", dir, file_index)
  proofs = io.open(path, "r")
  if not proofs then
    error("no proof file " .. path .. ": generate more files (proofs.mjs --counts)")
  end
  exhausted = 0
  used = 0
  last = ""
  body = os.getenv("LOAD_BODY")
  headers = {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Accept"] = "application/json",
  }
  local auth = os.getenv("LOAD_AUTH")
  if auth and auth ~= "" then
    headers["Authorization"] = auth
  end
end

function request()
  local line = proofs:read("*l")
  if line then
    last = line
    used = used + 1
  else
    exhausted = exhausted + 1
  end
  headers["DPoP"] = header .. last
  return wrk.format("POST", nil, headers, body)
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "RESULT requests=%d duration_us=%d rps=%.1f p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f max_ms=%.3f mean_ms=%.3f non2xx=%d connect_err=%d read_err=%d write_err=%d timeouts=%d\n",
    summary.requests, summary.duration, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000, latency.mean / 1000,
    e.status, e.connect, e.read, e.write, e.timeout))
  local total_used, total_exhausted = 0, 0
  for _, t in ipairs(threads) do
    total_used = total_used + (t:get("used") or 0)
    total_exhausted = total_exhausted + (t:get("exhausted") or 0)
  end
  io.write(string.format("DPOP proofs_used=%d proofs_exhausted=%d\n", total_used, total_exhausted))
end
