"""Routes: datasets (being written)."""

from fastapi import APIRouter

router = APIRouter()
