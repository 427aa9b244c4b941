-- ListUsers pages by id, which is time-ordered, so rows inserted between
-- pages never shift a page. strpos, unlike LIKE, gives % and _ no meaning.
-- name: ListUsers :many
SELECT * FROM users
WHERE id > sqlc.arg(after)
  AND (CAST(sqlc.arg(search) AS TEXT) = ''
       OR strpos(email, lower(sqlc.arg(search))) > 0
       OR strpos(lower(name), lower(sqlc.arg(search))) > 0)
ORDER BY id
LIMIT CAST(sqlc.arg('limit') AS BIGINT);
