-- A returning visitor's GET: the cookies of a prior GET (from the environment), a same-site
-- navigation as a browser sends it.
wrk.method = "GET"
wrk.headers["Cookie"] = os.getenv("COOKIE")
wrk.headers["Sec-Fetch-Site"] = "same-origin"
