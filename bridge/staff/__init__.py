"""Named staff (issue 15): the role table, the OpenID Connect client, local accounts' passwords and TOTP,
and the named API tokens. Pure of Flask and of the database: the web pages, the API guard, the registry
and the CLI use these pieces, none of them uses those."""
