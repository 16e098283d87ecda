-- wrk script: one request per call to a random user from $IDS_FILE (one id a line),
-- so lookups spread over the directory rather than hitting one cached row.
--   IDS_FILE     file of user ids (written by seed-users --sample-out)
--   PATH_PREFIX  default "/v1.0/users/"
--   PATH_SUFFIX  default "/authentication/methods"
--   METHOD       default "GET"; with "POST" the body is $BODY (JSON)
-- Headers given with -H (Authorization) are sent too.

local ids = {}
local prefix = os.getenv("PATH_PREFIX") or "/v1.0/users/"
local suffix = os.getenv("PATH_SUFFIX") or "/authentication/methods"
local method = os.getenv("METHOD") or "GET"
local body = os.getenv("BODY")

local thread_no = 0
function setup(thread)
  thread_no = thread_no + 1
  thread:set("seed", thread_no)
end

function init(args)
  for line in io.lines(os.getenv("IDS_FILE")) do
    if #line > 0 then ids[#ids + 1] = line end
  end
  math.randomseed(os.time() * 1000 + (seed or 0))
  wrk.method = method
  if body then
    wrk.body = body
    wrk.headers["Content-Type"] = "application/json"
  end
end

function request()
  return wrk.format(nil, prefix .. ids[math.random(#ids)] .. suffix)
end
