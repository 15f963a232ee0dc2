-- POST /api/v1/assistance-logs: one new log (fresh UUID) a request, as the team member, in
-- VILLAGE, on a random day of 1–20 November 2026 and with random figures.
dofile("bench/wrk/common.lua")
categories = { "vneid_install", "vneid_level2", "vneid_other", "online_public_services", "cashless_payment",
  "mobile_money", "ecommerce", "digital_health", "online_safety", "provincial_citizen_app", "messaging_apps",
  "digital_learning", "other" }
channels = { "home_visit", "commune_centre", "phone", "group_session" }
sexes = { "male", "female" }
ages = { "under_18", "18_35", "36_59", "60_plus" }
outcomes = { "done", "done", "done", "partly_done", "referred", "could_not_help" }
village = os.getenv("VILLAGE")
function pick(t) return t[math.random(1, #t)] end
function log_json()
  return string.format('{"id":"%s","occurred_at":"2026-11-%02dT%02d:%02d:00+07:00","village_id":%s,'
    .. '"category_code":"%s","channel":"%s","citizens_helped":%d,"citizen_sex":"%s","citizen_age_band":"%s",'
    .. '"outcome":"%s","note":"Hướng dẫn kích hoạt định danh mức 2"}',
    uuid4(), math.random(1, 20), math.random(7, 18), math.random(0, 59), village, pick(categories), pick(channels),
    math.random(1, 3), pick(sexes), pick(ages), pick(outcomes))
end
function init(args) seed() end
function request()
  return wrk.format("POST", "/api/v1/assistance-logs", json_headers, log_json())
end
