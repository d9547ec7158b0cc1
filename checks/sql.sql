{{ raw(query) }}
