-- A POST with the form, the token and the cookies of a prior GET (from the environment).
wrk.method = "POST"
wrk.body = os.getenv("BODY")
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Cookie"] = os.getenv("COOKIE")
wrk.headers["Origin"] = os.getenv("ORIGIN")
wrk.headers["Sec-Fetch-Site"] = "same-origin"
