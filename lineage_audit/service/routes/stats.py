"""Routes: stats (being written)."""

from fastapi import APIRouter

router = APIRouter()
