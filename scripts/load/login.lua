-- wrk script: POST /auth/jwt/login with a form body (the password grant).
wrk.method = "POST"
wrk.body = "username=load%40example.com&password=correct+horse+battery"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
