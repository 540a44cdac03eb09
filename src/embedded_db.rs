//! A private, throwaway PostgreSQL. (being written)
