-- Drives `preflight milter` with miltertest, a second milter client independent of
-- Postfix: a rejected canary, a passing and a flagged message with their verdict headers,
-- a forged verdict header deleted, and an aborted message, all on one connection.
-- Globals from -D: port, samples.
local function message(path)
  local f = assert(io.open(path, "rb"))
  local raw = f:read("*a"):gsub("\r\n", "\n")
  f:close()
  local head, body = raw:match("^(.-)\n\n(.*)$")
  local headers = {}
  for line in (head .. "\n"):gmatch("(.-)\n") do
    if line:match("^[ \t]") and #headers > 0 then
      headers[#headers][2] = headers[#headers][2] .. "\n" .. line
    else
      local n, v = line:match("^([^:]+):%s*(.*)$")
      if n then headers[#headers + 1] = { n, v } end
    end
  end
  return headers, (body:gsub("\n", "\r\n"))
end

local function check(err, what)
  if err ~= nil then error(what .. ": " .. tostring(err)) end
end

local function send(conn, name, extra)
  local headers, body = message(samples .. "/" .. name)
  for _, h in ipairs(extra or {}) do table.insert(headers, 1, h) end
  check(mt.macro(conn, SMFIC_MAIL, "i", "MT" .. name:sub(1, 6), "{auth_authen}", "alice"), "macro")
  check(mt.mailfrom(conn, "<alice@example.com>"), "mailfrom")
  check(mt.rcptto(conn, "<bob@example.org>"), "rcptto")
  for _, h in ipairs(headers) do check(mt.header(conn, h[1], h[2]), "header " .. h[1]) end
  -- No end-of-headers step: the milter negotiates it away (SMFIP_NOEOH), and miltertest
  -- refuses to send a step the milter declined.
  check(mt.bodystring(conn, body), "body")
  check(mt.eom(conn), "eom")
  return mt.getreply(conn)
end

local function run()
  local conn = mt.connect("inet:" .. port .. "@127.0.0.1", 20, 0.25)
  assert(conn, "cannot connect to the milter")
  check(mt.conninfo(conn, "client.example", "192.0.2.7"), "conninfo")
  check(mt.helo(conn, "client.example"), "helo")
  assert(send(conn, "canary.eml") == SMFIR_REPLYCODE, "canary: expected a reply code (554)")
  assert(send(conn, "good-newsletter.eml") == SMFIR_CONTINUE, "newsletter: expected continue")
  assert(mt.eom_check(conn, MT_HDRADD, "X-Preflight-Verdict"), "newsletter: no verdict header")
  assert(send(conn, "bad-size-too-many-attachments.eml") == SMFIR_CONTINUE,
    "flagged: expected continue")
  assert(mt.eom_check(conn, MT_HDRADD, "X-Preflight-Verdict"), "flagged: no verdict header")
  -- A verdict header the sender wrote is deleted before ours is added.
  assert(send(conn, "good-newsletter.eml", { { "X-Preflight-Verdict", "pass; score=0; forged" } })
    == SMFIR_CONTINUE, "forged: expected continue")
  assert(mt.eom_check(conn, MT_HDRDELETE, "X-Preflight-Verdict"), "forged: header not deleted")
  assert(mt.eom_check(conn, MT_HDRADD, "X-Preflight-Verdict"), "forged: no verdict header")
  check(mt.mailfrom(conn, "<alice@example.com>"), "mailfrom before abort")
  check(mt.header(conn, "Subject", "half a message"), "header before abort")
  check(mt.abort(conn), "abort")
  assert(send(conn, "good-personal-reply.eml") == SMFIR_CONTINUE, "after abort: expected continue")
  check(mt.disconnect(conn), "disconnect")
end

local ok, err = pcall(run)
if not ok then
  print("miltertest: FAIL: " .. tostring(err))
  os.exit(1)
end
print("miltertest: ok")
