"""Routes: events (being written)."""

from fastapi import APIRouter

router = APIRouter()
